"""统计分析: the center's numbers for leaders, supervisors and department heads."""
