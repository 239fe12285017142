from cbslocal.cli import main

main()
