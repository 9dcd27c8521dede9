"""网上办事大厅: the applicants' public pages (办事指南) and their accounts."""
