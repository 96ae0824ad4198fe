"""Queue bridge: check visitors in, draw waiting numbers and read waiting times from the appointment system.

``adapter``/``client``/``zms_adapter``/``circuit_breaker`` are plain Python (no ROS); the embedded
appointment server (``appointment_server``, ``server_db``, ``seed``) speaks the same ZMS subset;
``queue_bridge_node`` is the thin ROS wrapper.
"""
