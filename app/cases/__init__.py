"""Cases (办件): one application, from the window to delivery."""
