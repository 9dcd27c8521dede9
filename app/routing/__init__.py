"""Routing work from diagrams to people: 两横一纵 relative to the case's place."""
