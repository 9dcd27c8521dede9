"""The item catalog (审批事项): what a center decides, how long it may take, what it needs."""
