"""Messages and signals other systems send into running cases (payment, replies, portal)."""
