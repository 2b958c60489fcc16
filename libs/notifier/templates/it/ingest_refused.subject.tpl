Impossibile inviare come fax: {{SUBJECT_OR_REFERENCE}}
