"""E-mail in: one RFC 5322 message filed as a ticket or added as a comment, and the
threading headers that let a reply to a notification land on its ticket."""
