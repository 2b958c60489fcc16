Fax non accettato: {{SUBJECT_OR_REFERENCE}}
