from pdguard.cli import main

main()
