"""The lab as a whole: its record, its teardown and the doctor that checks the machine."""
