# expect: Friday 2024-04-14 60
from datetime import date, datetime, timedelta

d = datetime.strptime("2024-03-15", "%Y-%m-%d")
later = d + timedelta(days=30)
gap = (date(2024, 3, 1) - date(2024, 1, 1)).days
print(d.strftime("%A"), later.date(), gap)
