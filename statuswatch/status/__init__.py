"""What customers see as status: components, the status board, the Statuspage format."""
