"""The SMTP side: sessions, TLS, client networks, message rates."""
