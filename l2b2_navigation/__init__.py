"""Escort, person tracking, the safety gate in front of the base, and the floor-plan pipeline."""
