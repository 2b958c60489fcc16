{{#PARTIAL}}Fax inviato in parte{{/PARTIAL}}{{#FAILED}}Fax non inviato{{/FAILED}} a {{RECIPIENT}}: {{SUBJECT_OR_REFERENCE}}
