{{#PARTIAL}}Fax partially sent{{/PARTIAL}}{{#FAILED}}Fax not sent{{/FAILED}} to {{RECIPIENT}}: {{SUBJECT_OR_REFERENCE}}
