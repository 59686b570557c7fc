"""
Every status shape the engine writes survives what a real API server does to it: the merge
patch (nulls dropped), then admission against crds/task.yaml (pruning with Strict field
validation, defaults, the schema, CEL), and reads back as the same Task.

The statuses are produced by the engine's own RunState methods, the way the leaf runner and the
Task runner call them for each outcome; admission is the emulator's, which words refusals as
kube-apiserver 1.28 does (tests/sandbox/test_kubeapi_admission.py).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from dtk_api import transitions as t
from dtk_api.task_status import CommandResult, Failure, Step, TaskStatus
from dtk_api.task_wire import from_status, to_status
from dtk_operator.engine.run_state import RunState
from dtk_sandbox.kubeapi.admission import FieldValidation, SchemaAdmission, WriteOptions
from dtk_sandbox.kubeapi.crds import specs_from_crd
from dtk_sandbox.kubeapi.errors import ApiError
from dtk_sandbox.kubeapi.patches import merge_patch

ROOT = Path(__file__).resolve().parents[2]
TASK_SPEC = specs_from_crd(yaml.safe_load((ROOT / 'crds' / 'task.yaml').read_text()))[0]
TASK = {**yaml.safe_load((ROOT / 'crds' / 'samples' / 'task.yaml').read_text()), 'status': {}}
STEPS = (
    Step(index='', kind='task', name='assembly_converge'),
    Step(index='1', kind='create_node', name='create_node', node='master', operation='CreateNode', nodes=('master',)),
    Step(index='2', kind='stage', name='configure', components=('master/base', 'node-group:slaves/base')),
    Step(index='2.1', kind='configure_node', name='configure_node', node='master'),
    Step(index='2.2', kind='configure_nodegroup', name='configure_nodegroup', node='slaves'),
    Step(index='2.2.1', kind='configure_node', name='configure_node', node='slaves:1'),
    Step(index='3', kind='stage', name='smoke', action='master/base.smoke'),
    Step(index='3.1', kind='action', name='action', node='master', action='master/base.smoke'),
)
OK = CommandResult(run='echo configured', return_code=0, stdout='configured\n')


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 10, 0, 0, 123000, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=250)
        return self.now


class Recorder:
    """The writer's place: keeps the latest snapshot the engine asked to write."""
    def __init__(self) -> None:
        self.snapshot: Callable[[], dict[str, Any]] | None = None

    def mark(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        self.snapshot = snapshot


def started(*, steps: tuple[Step, ...] = STEPS) -> RunState:
    run = RunState(status=TaskStatus(), writer=Recorder(), generation=1, conditions=[], clock=Clock())  # type: ignore[arg-type]
    run.apply(lambda s, now: t.begin(s.__class__(**{**s.__dict__, 'steps': steps, 'plan_hash': 'f00d'}), now))
    run.log('notification', 'task spark-cluster1-2 started: workflow create')
    return run


def through_stage_2(run: RunState) -> RunState:
    for index in ('1', '2.1', '2.2.1'):
        run.start(index)
        run.succeed(index, (OK,) if index != '1' else ())
    return run


def success() -> RunState:
    run = through_stage_2(started())
    run.start('3.1')
    run.log('result', 'master base.smoke: port 8020 open', write=False)
    run.succeed('3.1', (OK, CommandResult(run='netstat -nltp | grep 8020', return_code=0, stdout='tcp 8020\n')))
    run.finish('succeeded')
    return run


def failed_leaf(result: CommandResult, message: str) -> RunState:
    run = through_stage_2(started())
    run.start('3.1')
    run.fail('3.1', node='master', results=(OK, result), return_code=result.return_code, stderr=result.stderr,
             message=message)
    run.finish('failed')
    return run


def non_zero() -> RunState:
    return failed_leaf(CommandResult(run='false', return_code=1, stderr='no\n'),
                       'base.smoke: Error in action; syscall status = 1: no')


def step_timeout() -> RunState:
    return failed_leaf(CommandResult(run='sleep 60', return_code=None, stdout='waiting\n'),
                       'base.smoke: Timeout (1 sec) for this action has been exceeded')


def killed() -> RunState:
    return failed_leaf(CommandResult(run='kill -9 $$', return_code=-9),
                       'base.smoke: Error in action; syscall status = -9')


def truncated() -> RunState:
    tail = 'x' * 4095 + '\n'
    return failed_leaf(CommandResult(run='yes | head -c 10000000; exit 3', return_code=3, stdout=tail, stderr=tail,
                                     truncated=True), 'base.smoke: Error in action; syscall status = 3: ' + 'x' * 200)


def cancelled() -> RunState:
    run = through_stage_2(started())
    run.start('3.1')
    run.interrupt('cancelled', 'cancelled')
    run.finish('cancelled')
    return run


def task_timeout() -> RunState:
    run = through_stage_2(started())
    run.start('3.1')
    run.interrupt('failed', 'task timed out after 5 s')
    run.finish('failed', failure=Failure(index='', node='', message='task timed out after 5 s'))
    return run


def failed_node_creation() -> RunState:
    run = started()
    run.start('1')
    run.fail('1', node='master', message='InvalidAMIID.NotFound: The image id [ami-nope] does not exist')
    run.finish('failed')
    return run


def operator_error() -> RunState:
    run = started()
    run.start('1')
    run.fail('1', node='master', message="operator error: RuntimeError('boom')", kind='server',
             stacktrace='Traceback (most recent call last):\n  ...\nRuntimeError: boom\n')
    run.finish('failed')
    return run


def invalid_input() -> RunState:
    """A Task refused before anything runs (unknown workflow, bad param): no steps at all."""
    run = RunState(status=TaskStatus(), writer=Recorder(), generation=1, conditions=[], clock=Clock())  # type: ignore[arg-type]
    message = "param 'name' value '1; touch /tmp/pwned' is not allowed"
    run.log('error', message)
    run.finish('failed', failure=Failure(index='', node='', message=message))
    return run


def waiting() -> RunState:
    run = RunState(status=TaskStatus(), writer=Recorder(), generation=1, conditions=[], clock=Clock())  # type: ignore[arg-type]
    run.apply(lambda s, now: t.wait_for(s, now, 'waiting for task spark-cluster1-1 to end'))
    return run


def executing() -> RunState:
    run = through_stage_2(started())
    run.start('3.1')
    return run


SHAPES = [success, non_zero, step_timeout, killed, truncated, cancelled, task_timeout, failed_node_creation,
          operator_error, invalid_input, waiting, executing]


def admitted(status: dict[str, Any]) -> dict[str, Any]:
    """The Task as stored after a merge patch of its status, as kube-apiserver stores it."""
    candidate = merge_patch(TASK, {'status': status})
    options = WriteOptions(field_validation=FieldValidation.STRICT)  # an undeclared field would be lost: refuse
    try:
        return SchemaAdmission().admit(TASK_SPEC, candidate, TASK, options)
    except ApiError as refusal:
        pytest.fail(f'the API server would refuse this status: {refusal.message}')


@pytest.mark.parametrize('shape', SHAPES, ids=[shape.__name__ for shape in SHAPES])
def test_status_is_accepted_and_reads_back_unchanged(shape: Callable[[], RunState]) -> None:
    run = shape()
    stored = admitted(run.snapshot())
    assert to_status(from_status(stored['status'])) == to_status(run.status)
    assert stored['status']['state'] == run.status.state
    assert stored['status']['conditions'][0]['type'] == 'Completed'


def test_a_timed_out_step_is_stored_without_a_return_code_and_reads_as_none() -> None:
    stored = admitted(step_timeout().snapshot())
    result = stored['status']['steps'][-1]['results'][-1]
    assert result['run'] == 'sleep 60' and 'returnCode' not in result
    assert from_status(stored['status']).failure.message.endswith('has been exceeded')  # type: ignore[union-attr]


def test_the_round_trip_check_can_fail() -> None:
    """A status the schema forbids is refused here, with the server's words."""
    bad = success().snapshot()
    bad['state'] = 'done'
    with pytest.raises(pytest.fail.Exception, match=r'status.state: Unsupported value: "done"'):
        admitted(bad)
