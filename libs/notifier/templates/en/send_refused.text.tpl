Your fax was not accepted, and nothing was sent.

Why:        {{ERROR_TEXT}} ({{ERROR_CODE}})
Subject:    {{SUBJECT}}
{{#HAS_REFERENCE}}Reference:  {{REFERENCE}}
{{/HAS_REFERENCE}}
If you think you should be allowed to send faxes, ask your fax administrator.

-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.
