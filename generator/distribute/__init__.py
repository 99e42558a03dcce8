"""Distribution: email summaries, chat and webhook notifications, publishing to a static host."""
