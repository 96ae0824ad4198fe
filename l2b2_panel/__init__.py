"""Staff tablet panel and the visitor touch screen: one ROS node serving both in the browser."""
