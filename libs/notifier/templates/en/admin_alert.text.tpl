Faxbridge needs your attention.

What:       {{ALERT_MESSAGE}}
Code:       {{ALERT_CODE}}
When:       {{DATE}}
{{#HAS_REFERENCE}}Fax:        {{REFERENCE}}
{{/HAS_REFERENCE}}
Alerts of the same cause are mailed at most once per {{ALERT_INTERVAL}} minutes.

-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.
