"""The interface packages build into the venv and match the definitions real robots use."""
import ast
from pathlib import Path

from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import DialogueState, RecognizedSpeech, SayRequest
from l2b2_interfaces.srv import CheckIn, DrawTicket, GetQueueStatus, LookupAppointment
from nav2_msgs.action import NavigateToPose
from tf2_msgs.msg import TFMessage

ROOT = Path(__file__).resolve().parents[2]


def _fields(cls):
    return dict(cls.get_fields_and_field_types())


def test_navigate_to_pose_matches_nav2_kilted_exactly():
    assert _fields(NavigateToPose.Goal) == {'pose': 'geometry_msgs/PoseStamped', 'behavior_tree': 'string'}
    assert _fields(NavigateToPose.Result) == {'error_code': 'uint16', 'error_msg': 'string'}
    assert _fields(NavigateToPose.Feedback) == {
        'current_pose': 'geometry_msgs/PoseStamped',
        'navigation_time': 'builtin_interfaces/Duration',
        'estimated_time_remaining': 'builtin_interfaces/Duration',
        'number_of_recoveries': 'int16',
        'distance_remaining': 'float',
    }
    r = NavigateToPose.Result
    assert (r.NONE, r.UNKNOWN, r.FAILED_TO_LOAD_BEHAVIOR_TREE, r.TF_ERROR, r.TIMEOUT) == (0, 9000, 9001, 9002, 9003)


def test_tf_message_matches_tf2_msgs():
    assert _fields(TFMessage) == {'transforms': 'sequence<geometry_msgs/TransformStamped>'}


def test_product_interfaces_carry_what_the_issues_need():
    assert {'text', 'language', 'confidence', 'speech_start', 'speech_end', 'source'} <= set(_fields(RecognizedSpeech))
    assert {'text', 'language', 'priority', 'interruptible'} <= set(_fields(SayRequest))
    assert {'state', 'language', 'intent', 'target_id', 'candidates', 'choices'} <= set(_fields(DialogueState))
    assert {'target_id', 'language', 'with_visitor'} <= set(_fields(Escort.Goal))
    assert {'distance_remaining', 'visitor_status', 'phase'} <= set(_fields(Escort.Feedback))
    assert Escort.Result.UNKNOWN_TARGET != Escort.Result.ARRIVED
    for srv in (LookupAppointment, CheckIn, DrawTicket, GetQueueStatus):
        assert srv.Response.OK == 0 and srv.Response.UNAVAILABLE == 3


def test_interface_package_manifests_have_a_valid_maintainer_email():
    import re
    for manifest in [ROOT / 'package.xml', *sorted((ROOT / 'interfaces').glob('*/package.xml'))]:
        text = manifest.read_text()
        emails = re.findall(r'<maintainer email="([^"]+)"', text)
        assert emails and all(re.fullmatch(r'[^@\s]+@[^@\s]+\.[a-z]{2,}', e) for e in emails), manifest


def test_launch_files_parse_and_define_a_launch_description():
    files = sorted((ROOT / 'launch').glob('*.launch.py'))
    assert files
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert 'generate_launch_description' in names, path
