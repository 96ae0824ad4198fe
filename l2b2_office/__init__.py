"""The office day (issue 16): opening hours and the day cycle, battery, staff alerts and the office's figures."""
