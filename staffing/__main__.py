from staffing.cli.main import main

main()
