Cannot fax this: {{SUBJECT_OR_REFERENCE}}
