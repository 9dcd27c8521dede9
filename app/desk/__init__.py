"""The worklist (待办): work routed to me, my posts, and colleagues I stand in for."""
