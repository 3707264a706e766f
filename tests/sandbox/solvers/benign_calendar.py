# expect: (3, 29) True 2
import calendar

fri13 = sum(1 for m in range(1, 13) if calendar.weekday(2015, m, 13) == calendar.FRIDAY)
print(calendar.monthrange(2024, 2), calendar.isleap(2000), calendar.leapdays(2000, 2008), fri13)
