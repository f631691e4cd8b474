"""Files shipped with Cmfy Desk: sample workflows and icons."""
