Fax not accepted: {{SUBJECT_OR_REFERENCE}}
