"""Email: messages rendered from templates, sent through SES (v2), and written to a
local outbox as well on the local stack."""
