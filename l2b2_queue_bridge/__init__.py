"""Queue bridge: check visitors in, draw waiting numbers and read waiting times from the appointment system.

``adapter``/``client``/``results`` (the client's target and answer values)/``names`` (the name check)/
``zms_adapter``/``zms_session``/``zms_entities``/``circuit_breaker`` are plain Python (no ROS); ``check`` is
``l2b2-queue-check``; the embedded appointment server (``appointment_server``, ``server_auth``,
``server_entities``, ``server_db``, ``server_settings``, ``seed``) answers like upstream eAppointment;
``queue_bridge_node`` is the thin ROS wrapper.
"""
