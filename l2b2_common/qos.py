"""QoS profiles with names that say what they are for."""
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

#: State topics (dialogue state, safety state, map): late joiners get the last message.
LATCHED = QoSProfile(
    depth=1,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)

#: Status streams where every change counts, not only the last (/speech/status: each sentence's start
#: and end, interrupted or not — the ASR must see a barge-in's IDLE even when the next sentence starts
#: at once). Depth 1 would let a fast writer overwrite a change before a busy reader took it.
STATUS = QoSProfile(
    depth=10,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)

#: Subscribing to sensor streams (scan, odom, audio): newest wins, nothing queued for slow readers.
#: Publishers keep the default reliable QoS so that every kind of subscriber matches them.
SENSOR = QoSProfile(
    depth=5,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.BEST_EFFORT,
    durability=DurabilityPolicy.VOLATILE,
)

#: Commands and events: reliable, a short queue.
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)

#: Audio streams (/audio/raw, /audio/chunks, /audio/tts_out): reliable with ~10 s of 20 ms blocks of
#: history, so a burst (a whole synthesized sentence at once) is not cut short by a busy reader.
AUDIO = QoSProfile(depth=500, reliability=ReliabilityPolicy.RELIABLE)

#: /tf for our planar listeners: reliable (matches every tf publisher) with a short queue. tf2 keeps 100
#: messages to look far into the past; our nodes want the pose now or at a scan's stamp, and a deep queue
#: let a node on a busy computer or in a faster-than-real-time simulation fall seconds behind the robot.
TF = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)

#: /tf_static as tf2 uses it: latched, so a late joiner gets robot_state_publisher's transforms.
TF_STATIC = QoSProfile(
    depth=100,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
