"""runner.impact: spec differences, the text and JSON formats, the pull-request comment."""
