"""The public space end to end through Django's client: click, page, beacon, submit, debrief."""
