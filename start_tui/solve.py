def add_solve_parser(sub): pass
