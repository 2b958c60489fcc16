Your mail could not be turned into a fax, and nothing was sent.

Why:        {{ERROR_TEXT}} ({{ERROR_CODE}})
Subject:    {{SUBJECT}}
{{#HAS_REFERENCE}}Reference:  {{REFERENCE}}
{{/HAS_REFERENCE}}
-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.
