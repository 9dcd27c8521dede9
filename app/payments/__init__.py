"""缴费: payment providers (现场缴费, online platforms) and the window's payment buttons."""
