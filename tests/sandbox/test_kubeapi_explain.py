"""
``kubectl explain`` against the emulator with the project CRDs: the field descriptions come from
the CRDs' schemas, served as OpenAPI v3 the way kube-apiserver names and shapes them. Publishing
the schemas must not change how ``kubectl apply`` patches custom resources (JSON merge patch).
"""
import copy
import json
import pathlib
import textwrap

import pytest
import yaml

PROJECT = pathlib.Path(__file__).parents[2]
ASSEMBLY_CRD = yaml.safe_load((PROJECT / 'crds' / 'assembly.yaml').read_text())
ASSEMBLY_SCHEMA = ASSEMBLY_CRD['spec']['versions'][0]['schema']['openAPIV3Schema']
NODES = ASSEMBLY_SCHEMA['properties']['spec']['properties']['nodes']


@pytest.fixture
def project_crds(api):
    # Installed before kubectl's first call, so that its discovery sees them.
    api.install_crds(PROJECT / 'crds')


def words(text: str) -> str:
    """Text with its line breaks and indentation folded: kubectl wraps descriptions at 80 columns."""
    return ' '.join(text.split())


def fields(output: str) -> dict[str, str]:
    """FIELDS of `kubectl explain`: each field's name and its `<type>` (and `-required-`)."""
    listed = output.partition('FIELDS:')[2]
    return {line.split('\t')[0].strip(): line.split('\t')[1] for line in listed.splitlines() if '\t' in line}


@pytest.mark.usefixtures('project_crds')
def test_explain_prints_the_description_of_a_field_from_the_crd(kubectl):
    printed = kubectl('explain', 'assembly.spec.nodes').stdout
    assert printed.startswith('GROUP:      dtk.io\nKIND:       Assembly\nVERSION:    v1alpha1\n')
    assert 'FIELD: nodes <[]Object>' in printed
    assert words(NODES['description']) in words(printed)
    assert fields(printed)['name'] == '<string> -required-'
    name = NODES['items']['properties']['name']['description']
    assert words(name) in words(printed)  # and the descriptions of its fields


@pytest.mark.usefixtures('project_crds')
def test_explain_nested_fields_of_every_project_kind(kubectl):
    name = kubectl('explain', 'assembly.spec.nodes.name').stdout
    assert 'FIELD: name <string>' in name
    assert words(NODES['items']['properties']['name']['description']) in words(name)
    steps = kubectl('explain', 'task.status.steps').stdout
    assert 'KIND:       Task' in steps and 'FIELD: steps <[]Object>' in steps
    assert fields(steps)['index'] == '<string> -required-'
    recursive = kubectl('explain', 'si', '--recursive').stdout
    assert 'KIND:       ServiceInstance' in recursive
    assert textwrap.indent('metadata\t<ObjectMeta>\n  annotations\t<map[string]string>', '  ') in recursive


@pytest.mark.usefixtures('project_crds')
def test_explain_shows_the_standard_type_and_object_metadata(kubectl):
    top = kubectl('explain', 'assembly').stdout
    assert words(ASSEMBLY_SCHEMA['description']) in words(top)
    assert 'Kind is a string value representing the REST resource this object represents.' in words(top)
    metadata = kubectl('explain', 'asm.metadata').stdout
    assert "Standard object's metadata." in metadata
    assert {'name', 'namespace', 'labels', 'annotations', 'finalizers', 'ownerReferences'} <= set(fields(metadata))
    owners = kubectl('explain', 'asm.metadata.ownerReferences').stdout
    assert 'FIELD: ownerReferences <[]OwnerReference>' in owners
    assert fields(owners)['uid'] == '<string> -required-'


@pytest.mark.usefixtures('project_crds')
def test_explain_of_a_field_that_does_not_exist(kubectl):
    result = kubectl('explain', 'assembly.spec.nope', check=False)
    assert result.returncode == 1
    assert 'error: field "nope" does not exist' in result.stderr


def test_explain_follows_a_crd_changed_at_runtime(api, kubectl, widgets_crd, tmp_path):
    version = widgets_crd['spec']['versions'][0]
    version['schema']['openAPIV3Schema'] = {'type': 'object', 'properties': {'spec': {
        'type': 'object', 'description': 'The first wording.', 'properties': {'size': {'type': 'integer'}}}}}
    manifest = tmp_path / 'crd.yaml'
    manifest.write_text(yaml.safe_dump(widgets_crd))
    kubectl('apply', '-f', str(manifest))
    assert 'The first wording.' in kubectl('explain', 'widgets.spec').stdout
    changed = copy.deepcopy(widgets_crd)
    changed['spec']['versions'][0]['schema']['openAPIV3Schema']['properties']['spec']['description'] = 'Reworded.'
    manifest.write_text(yaml.safe_dump(changed))
    kubectl('apply', '-f', str(manifest))
    assert 'Reworded.' in kubectl('explain', 'widgets.spec').stdout


@pytest.mark.usefixtures('project_crds')
def test_openapi_names_the_schema_and_declares_the_patch_types_of_a_custom_resource(kubectl):
    document = json.loads(kubectl('get', '--raw', '/openapi/v3/apis/dtk.io/v1alpha1').stdout)
    schema = document['components']['schemas']['io.dtk.v1alpha1.Assembly']
    assert schema['x-kubernetes-group-version-kind'] == [{'group': 'dtk.io', 'kind': 'Assembly', 'version': 'v1alpha1'}]
    assert schema['properties']['metadata']['allOf'] == [
        {'$ref': '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'}]
    assert 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' in document['components']['schemas']
    patch = document['paths']['/apis/dtk.io/v1alpha1/namespaces/{namespace}/assemblies/{name}']['patch']
    assert sorted(patch['requestBody']['content']) == [
        'application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']
    assert {'name': 'fieldValidation', 'in': 'query'}.items() <= patch['parameters'][0].items()


@pytest.mark.usefixtures('project_crds')
def test_apply_of_an_assembly_then_of_a_changed_one(kubectl, custom, tmp_path):
    sample = yaml.safe_load((PROJECT / 'crds' / 'samples' / 'assembly.yaml').read_text())
    name = sample['metadata']['name']
    manifest = tmp_path / 'assembly.yaml'
    manifest.write_text(yaml.safe_dump(sample))
    assert kubectl('apply', '-f', str(manifest)).stdout == f'assembly.dtk.io/{name} created\n'
    sample['spec']['description'] = 'a changed description'
    manifest.write_text(yaml.safe_dump(sample))
    result = kubectl('apply', '-f', str(manifest))  # a PATCH: a JSON merge patch, custom resources take no other
    assert (result.stdout, result.stderr) == (f'assembly.dtk.io/{name} configured\n', '')
    stored = custom.get_namespaced_custom_object('dtk.io', 'v1alpha1', 'default', 'assemblies', name)
    assert stored['spec']['description'] == 'a changed description'
    assert stored['metadata']['generation'] == 2
