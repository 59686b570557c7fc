"""
The `ssm` command transport: one script on one EC2 instance through SSM Run Command.

Most tests drive a real boto3 SSM client whose HTTP layer is botocore's Stubber, answering with
the response shapes of SSM's service model (the Stubber validates both our requests and these
responses against it). Time is fake: the injected sleep only advances a fake clock, so backoff,
grace periods and deadlines cost nothing. The last test talks real HTTP to moto's server.
"""
import asyncio
import datetime
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.stub import ANY, Stubber
from moto.server import ThreadedMotoServer

from dtk_operator.aws.ssm import SsmCommands, SsmError

COMMAND_ID = '2f4c1b7e-1d5a-4a5e-9b3a-0c2f9e6d8a11'
INSTANCE_ID = 'i-0123456789abcdef0'
NOW = datetime.datetime(2024, 5, 1, 10, 0, tzinfo=datetime.UTC)
NO_CLOUDWATCH = {'CloudWatchOutputEnabled': False}


class FakeTime:
    """A clock that only moves when the code under test sleeps; `block_after` parks the Nth sleep forever."""

    def __init__(self, block_after: int | None = None) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.block_after = block_after
        self.blocked = asyncio.Event()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.block_after is not None and len(self.sleeps) > self.block_after:
            self.blocked.set()
            await asyncio.Event().wait()
        await asyncio.sleep(0)


def sent_command(parameters: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """A SendCommand response as SSM returns it: the command is accepted and pending."""
    return {'Command': {
        'CommandId': COMMAND_ID, 'DocumentName': 'AWS-RunShellScript', 'DocumentVersion': '$DEFAULT', 'Comment': '',
        'ExpiresAfter': NOW + datetime.timedelta(minutes=3), 'Parameters': parameters or {'commands': ['true']},
        'InstanceIds': [INSTANCE_ID], 'Targets': [], 'RequestedDateTime': NOW, 'Status': 'Pending',
        'StatusDetails': 'Pending', 'OutputS3Region': 'us-east-1', 'MaxConcurrency': '50', 'MaxErrors': '0',
        'TargetCount': 1, 'CompletedCount': 0, 'ErrorCount': 0, 'DeliveryTimedOutCount': 0, 'ServiceRole': '',
        'NotificationConfig': {'NotificationArn': '', 'NotificationEvents': [], 'NotificationType': ''},
        'CloudWatchOutputConfig': NO_CLOUDWATCH, 'TimeoutSeconds': 120,
    }}


def invocation(status: str, details: str, code: int, stdout: str = '', stderr: str = '') -> dict[str, Any]:
    """A GetCommandInvocation response; SSM reports ResponseCode -1 until the script has run."""
    return {
        'CommandId': COMMAND_ID, 'InstanceId': INSTANCE_ID, 'Comment': '', 'DocumentName': 'AWS-RunShellScript',
        'DocumentVersion': '$DEFAULT', 'PluginName': 'aws:runShellScript', 'ResponseCode': code,
        'ExecutionStartDateTime': '2024-05-01T10:00:01.120Z', 'ExecutionElapsedTime': 'PT1.52S',
        'ExecutionEndDateTime': '2024-05-01T10:00:02.640Z' if status not in ('Pending', 'InProgress') else '',
        'Status': status, 'StatusDetails': details, 'StandardOutputContent': stdout, 'StandardOutputUrl': '',
        'StandardErrorContent': stderr, 'StandardErrorUrl': '', 'CloudWatchOutputConfig': NO_CLOUDWATCH,
    }


IN_PROGRESS = invocation('InProgress', 'InProgress', -1)
POLL = {'CommandId': COMMAND_ID, 'InstanceId': INSTANCE_ID}
CANCEL = {'CommandId': COMMAND_ID, 'InstanceIds': [INSTANCE_ID]}
SEND = {'DocumentName': 'AWS-RunShellScript', 'InstanceIds': [INSTANCE_ID], 'Parameters': ANY, 'TimeoutSeconds': 120}


@pytest.fixture
def client() -> Any:
    return boto3.client('ssm', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def commands(client: Any, fake: FakeTime, **options: Any) -> SsmCommands:
    options = {'poll_initial_seconds': 0.5, 'poll_max_seconds': 5.0, **options}
    return SsmCommands(client, sleep=fake.sleep, clock=fake.clock, **options)


def not_found(stub: Stubber) -> None:
    stub.add_client_error('get_command_invocation', 'InvocationDoesNotExist', '', 400, expected_params=POLL)


@pytest.mark.asyncio
async def test_success_returns_exit_code_and_output(client: Any, stub: Stubber, fake: FakeTime) -> None:
    stub.add_response('send_command', sent_command(), SEND)
    for _ in range(4):
        stub.add_response('get_command_invocation', IN_PROGRESS, POLL)
    stub.add_response('get_command_invocation', invocation('Success', 'Success', 0, 'hello\n'), POLL)

    outcome = await commands(client, fake).run(INSTANCE_ID, 'echo hello', env={}, timeout_seconds=60)

    assert (outcome.status, outcome.return_code, outcome.stdout, outcome.stderr) == ('Success', 0, 'hello\n', '')
    assert not outcome.truncated and not outcome.timed_out
    assert fake.sleeps == [0.5, 1.0, 2.0, 4.0, 5.0]  # backoff from poll_initial, capped at poll_max


@pytest.mark.asyncio
async def test_non_zero_exit_is_reported_with_stderr(client: Any, stub: Stubber, fake: FakeTime) -> None:
    stub.add_response('send_command', sent_command(), SEND)
    stub.add_response('get_command_invocation', invocation('Failed', 'Failed', 3, 'partial\n', 'boom\n'), POLL)

    outcome = await commands(client, fake).run(INSTANCE_ID, 'exit 3', env={}, timeout_seconds=None)

    assert (outcome.status, outcome.return_code, outcome.stdout, outcome.stderr) == ('Failed', 3, 'partial\n', 'boom\n')
    assert not outcome.timed_out


@pytest.mark.asyncio
async def test_step_timeout_is_enforced_by_ssm_and_reported_timed_out(client: Any, stub: Stubber,
                                                                      fake: FakeTime) -> None:
    params = {**SEND, 'Parameters': {'commands': ['sleep 600'], 'executionTimeout': ['10']}}
    stub.add_response('send_command', sent_command(), params)
    stub.add_response('get_command_invocation', invocation('TimedOut', 'Execution Timed Out', -1, 'started\n'), POLL)

    outcome = await commands(client, fake).run(INSTANCE_ID, 'sleep 600', env={}, timeout_seconds=9.2)

    assert (outcome.status, outcome.return_code, outcome.timed_out) == ('TimedOut', None, True)
    assert outcome.stdout == 'started\n'


@pytest.mark.asyncio
@pytest.mark.parametrize(('status', 'details'), [
    ('Cancelled', 'Cancelled'),
    ('Failed', 'Undeliverable'),  # the node is gone or its agent unreachable: the script never started
    ('TimedOut', 'Delivery Timed Out'),  # never reached the node: not a step timeout
    ('Failed', 'Terminated'),
])
async def test_final_status_without_an_exit_code_says_why_in_stderr(client: Any, stub: Stubber, fake: FakeTime,
                                                                    status: str, details: str) -> None:
    stub.add_response('send_command', sent_command(), SEND)
    stub.add_response('get_command_invocation', invocation(status, details, -1), POLL)

    outcome = await commands(client, fake).run(INSTANCE_ID, 'true', env={}, timeout_seconds=30)

    assert (outcome.status, outcome.return_code, outcome.timed_out) == (status, None, False)
    assert outcome.stderr.splitlines()[-1] == f'ssm: {status} ({details})'


@pytest.mark.asyncio
async def test_invocation_not_yet_visible_is_pending(client: Any, stub: Stubber, fake: FakeTime) -> None:
    stub.add_response('send_command', sent_command(), SEND)
    not_found(stub)
    not_found(stub)
    stub.add_response('get_command_invocation', invocation('Success', 'Success', 0, 'ok\n'), POLL)

    outcome = await commands(client, fake).run(INSTANCE_ID, 'echo ok', env={}, timeout_seconds=30)

    assert (outcome.status, outcome.return_code, outcome.stdout) == ('Success', 0, 'ok\n')


@pytest.mark.asyncio
async def test_invocation_missing_past_the_grace_fails_and_cancels(client: Any, stub: Stubber,
                                                                   fake: FakeTime) -> None:
    stub.add_response('send_command', sent_command(), SEND)
    for _ in range(3):  # polls at t=1, 2, 3; the grace ends at 3
        not_found(stub)
    stub.add_response('cancel_command', {}, CANCEL)

    ssm = commands(client, fake, poll_initial_seconds=1.0, poll_max_seconds=1.0, not_found_grace_seconds=3.0)
    with pytest.raises(SsmError) as raised:
        await ssm.run(INSTANCE_ID, 'true', env={}, timeout_seconds=30)

    assert raised.value.code == 'InvocationDoesNotExist' and not raised.value.temporary
    assert COMMAND_ID in raised.value.message and INSTANCE_ID in raised.value.message and '3s' in raised.value.message


@pytest.mark.asyncio
async def test_output_cut_by_ssm_is_reported_truncated_and_only_the_tail_kept(client: Any, stub: Stubber,
                                                                              fake: FakeTime) -> None:
    stdout = 'a' * (24_000 - 4096) + 'b' * 4096  # SSM's limit: the first 24,000 characters
    stub.add_response('send_command', sent_command(), SEND)
    stub.add_response('get_command_invocation', invocation('Success', 'Success', 0, stdout, 'warn\n'), POLL)

    outcome = await commands(client, fake).run(INSTANCE_ID, 'yes | head -c 99999', env={}, timeout_seconds=30)

    assert outcome.truncated
    assert outcome.stdout == 'b' * 4096
    assert outcome.stderr == 'warn\n'


@pytest.mark.asyncio
async def test_our_own_4kib_cut_is_reported_and_never_splits_a_character(client: Any, stub: Stubber,
                                                                         fake: FakeTime) -> None:
    stub.add_response('send_command', sent_command(), SEND)
    stub.add_response('get_command_invocation', invocation('Success', 'Success', 0, 'é' * 3000), POLL)

    outcome = await commands(client, fake).run(INSTANCE_ID, 'true', env={}, timeout_seconds=30)

    assert outcome.truncated
    assert outcome.stdout == 'é' * 2048  # 4096 bytes of two-byte characters


@pytest.mark.asyncio
async def test_throttling_and_5xx_are_retried(client: Any, stub: Stubber, fake: FakeTime) -> None:
    stub.add_client_error('send_command', 'ThrottlingException', 'Rate exceeded', 400, expected_params=SEND)
    stub.add_response('send_command', sent_command(), SEND)
    stub.add_client_error('get_command_invocation', 'InternalServerError', 'oops', 500, expected_params=POLL)
    stub.add_client_error('get_command_invocation', 'ThrottlingException', 'Rate exceeded', 400,
                          expected_params=POLL)
    stub.add_response('get_command_invocation', invocation('Success', 'Success', 0, 'ok\n'), POLL)

    outcome = await commands(client, fake).run(INSTANCE_ID, 'echo ok', env={}, timeout_seconds=30)

    assert (outcome.status, outcome.return_code) == ('Success', 0)
    assert len(fake.sleeps) == 4  # three retries and the first poll delay


@pytest.mark.asyncio
async def test_throttling_retries_are_bounded(client: Any, stub: Stubber, fake: FakeTime) -> None:
    for _ in range(5):
        stub.add_client_error('send_command', 'ThrottlingException', 'Rate exceeded', 400, expected_params=SEND)

    with pytest.raises(SsmError) as raised:
        await commands(client, fake).run(INSTANCE_ID, 'true', env={}, timeout_seconds=30)

    assert (raised.value.code, raised.value.temporary) == ('ThrottlingException', True)
    assert 'Rate exceeded' in raised.value.message and len(fake.sleeps) == 4


@pytest.mark.asyncio
async def test_permanent_error_carries_aws_code_and_message(client: Any, stub: Stubber, fake: FakeTime) -> None:
    message = 'Instances [[i-0123456789abcdef0]] not in a valid state for account 123456789012'
    stub.add_client_error('send_command', 'InvalidInstanceId', message, 400, expected_params=SEND)

    with pytest.raises(SsmError) as raised:
        await commands(client, fake).run(INSTANCE_ID, 'true', env={}, timeout_seconds=30)

    assert (raised.value.code, raised.value.temporary) == ('InvalidInstanceId', False)
    assert message in raised.value.message
    assert fake.sleeps == []  # not retried


@pytest.mark.asyncio
async def test_local_deadline_cancels_a_command_ssm_never_finishes(client: Any, stub: Stubber,
                                                                   fake: FakeTime) -> None:
    stub.add_response('send_command', sent_command(), SEND)
    for _ in range(4):  # polls at t=1, 3, 7 and 10, the deadline
        stub.add_response('get_command_invocation', IN_PROGRESS, POLL)
    stub.add_response('cancel_command', {}, CANCEL)

    ssm = commands(client, fake, poll_initial_seconds=1.0, poll_max_seconds=4.0)
    outcome = await ssm.run(INSTANCE_ID, 'sleep 5', env={}, timeout_seconds=5, deadline_seconds=10)

    assert (outcome.status, outcome.return_code, outcome.timed_out) == ('DeadlineExceeded', None, True)
    assert 'last seen: InProgress' in outcome.stderr
    assert fake.now == 10.0
    stub.assert_no_pending_responses()  # CancelCommand was sent


@pytest.mark.asyncio
async def test_cancelling_the_wait_cancels_the_command(client: Any, stub: Stubber) -> None:
    fake = FakeTime(block_after=2)
    stub.add_response('send_command', sent_command(), SEND)
    stub.add_response('get_command_invocation', IN_PROGRESS, POLL)
    stub.add_response('get_command_invocation', IN_PROGRESS, POLL)
    stub.add_response('cancel_command', {}, CANCEL)

    task = asyncio.create_task(commands(client, fake).run(INSTANCE_ID, 'sleep 60', env={}, timeout_seconds=90))
    await asyncio.wait_for(fake.blocked.wait(), 5)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    stub.assert_no_pending_responses()  # CancelCommand was sent


@pytest.mark.asyncio
async def test_cancelling_during_send_cancels_the_command_once_sent(client: Any, stub: Stubber,
                                                                    fake: FakeTime) -> None:
    in_send, release = threading.Event(), threading.Event()

    def hold_send(**_: Any) -> None:  # runs in the request's worker thread
        in_send.set()
        release.wait(5)

    client.meta.events.register('before-parameter-build.ssm.SendCommand', hold_send, unique_id='hold-send')
    stub.add_response('send_command', sent_command(), SEND)
    stub.add_response('cancel_command', {}, CANCEL)

    task = asyncio.create_task(commands(client, fake).run(INSTANCE_ID, 'sleep 60', env={}, timeout_seconds=90))
    assert await asyncio.to_thread(in_send.wait, 5)
    task.cancel()
    await asyncio.sleep(0.05)
    release.set()

    with pytest.raises(asyncio.CancelledError):
        await task
    stub.assert_no_pending_responses()  # CancelCommand was sent for the command that went out


ENV = {
    'DTK_NODE': 'master:0',
    'DTK_ATTR_MOTD': "it's $HOME `id` $(id) \"quoted\"\nsecond line; rm -rf /",
    'DTK_ATTR_EMPTY': '',
}


@pytest.mark.asyncio
async def test_environment_is_exported_with_shell_quoting(client: Any, stub: Stubber, fake: FakeTime) -> None:
    sent = {'commands': [
        "export DTK_ATTR_EMPTY=''",
        "export DTK_ATTR_MOTD='it'\"'\"'s $HOME `id` $(id) \"quoted\"\nsecond line; rm -rf /'",
        "export DTK_NODE=master:0",
        'echo "$DTK_NODE"',
    ], 'executionTimeout': ['30']}
    stub.add_response('send_command', sent_command(sent), {**SEND, 'Parameters': sent})
    stub.add_response('get_command_invocation', invocation('Success', 'Success', 0, 'master:0\n'), POLL)

    await commands(client, fake).run(INSTANCE_ID, 'echo "$DTK_NODE"', env=ENV, timeout_seconds=30)

    # What the agent does with `commands` (one script, one line each), run by a real shell here.
    probe = [*sent['commands'][:-1], 'printf "%s\\0" "$DTK_NODE" "$DTK_ATTR_MOTD" "$DTK_ATTR_EMPTY"']
    result = subprocess.run(['/bin/sh', '-c', '\n'.join(probe)], capture_output=True, text=True, timeout=10,
                            check=True, env={})
    assert result.stdout.split('\0')[:3] == [ENV['DTK_NODE'], ENV['DTK_ATTR_MOTD'], '']


@pytest.mark.asyncio
async def test_environment_names_that_are_not_shell_names_are_refused(client: Any, stub: Stubber,
                                                                      fake: FakeTime) -> None:
    with pytest.raises(ValueError, match='DTK_ATTR_a-b'):
        await commands(client, fake).run(INSTANCE_ID, 'true', env={'DTK_ATTR_a-b': 'x'}, timeout_seconds=30)


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f'http://{host}:{port}'
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_runs_through_moto_over_http(moto_endpoint: str) -> None:
    # Few retries: moto answers 500 for what it does not implement, and botocore would retry that.
    options = {'endpoint_url': moto_endpoint, 'region_name': 'us-east-1', 'aws_access_key_id': 'testing',
               'aws_secret_access_key': 'testing', 'config': botocore.config.Config(retries={'total_max_attempts': 2})}
    ec2, ssm = boto3.client('ec2', **options), boto3.client('ssm', **options)
    reservation = await asyncio.to_thread(ec2.run_instances, ImageId='ami-12c6146b', MinCount=1, MaxCount=1,
                                          InstanceType='t3.micro')
    instance_id = reservation['Instances'][0]['InstanceId']

    outcome = await SsmCommands(ssm, poll_initial_seconds=0.05).run(
        instance_id, 'echo "$DTK_NODE"', env={'DTK_NODE': 'worker:1'}, timeout_seconds=45)

    # moto never runs commands: it answers Success with empty output, so that is all there is to check.
    assert (outcome.status, outcome.return_code, outcome.stdout, outcome.timed_out) == ('Success', 0, '', False)
    [command] = (await asyncio.to_thread(ssm.list_commands, InstanceId=instance_id))['Commands']
    assert command['DocumentName'] == 'AWS-RunShellScript' and command['TimeoutSeconds'] == 120
    assert command['Parameters'] == {'commands': ['export DTK_NODE=worker:1', 'echo "$DTK_NODE"'],
                                     'executionTimeout': ['45']}
