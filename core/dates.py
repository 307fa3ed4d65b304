"""
Every date rule of the project, each under one name.

(Being filled in: the add_years variants — clipped to the month's end vs rolling 29 February + 1 year to
1 March — and the one supported date range with the one parser every view, command, importer and API uses.)
"""
