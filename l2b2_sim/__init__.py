"""The simulated robot base and navigator: a pybullet world with the same ROS interfaces as the robot."""
