Fax in coda per {{RECIPIENT}}: {{SUBJECT_OR_REFERENCE}}
