<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{SUBJECT_LINE}}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 18px;">Faxbridge needs your attention</h2>
<p>{{ALERT_MESSAGE}}</p>
<p><strong>Code:</strong> <code>{{ALERT_CODE}}</code><br><strong>When:</strong> {{DATE}}{{#HAS_REFERENCE}}<br><strong>Fax:</strong> {{REFERENCE}}{{/HAS_REFERENCE}}</p>
<p>Alerts of the same cause are mailed at most once per {{ALERT_INTERVAL}} minutes.</p>
<p style="color: #777; font-size: 12px;">Faxbridge{{#COMPANY}} &middot; {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.</p>
</body></html>
