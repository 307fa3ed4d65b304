"""Practical scoring sheets (实操评分表): items, deductions, critical items, filled on the assessor's tablet."""
