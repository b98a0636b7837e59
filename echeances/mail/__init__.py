"""Email: build a document's message (``compose``), hand it to a transport, log every attempt (``send``)."""
from echeances.mail.compose import DocumentToSend, compose, email_context
from echeances.mail.config import MailConfig, mail_config, smtp_password
from echeances.mail.message import MessageRefused
from echeances.mail.sending import AlreadySent, Outgoing, Sending, send
from echeances.mail.transport import DeliveryError, OutboxTransport, SMTPTransport, make_transport

__all__ = ["AlreadySent", "DeliveryError", "DocumentToSend", "MailConfig", "MessageRefused", "OutboxTransport",
           "Outgoing", "SMTPTransport", "Sending", "compose", "email_context", "mail_config", "make_transport",
           "send", "smtp_password"]
