from statuswatch.cli.main import main

raise SystemExit(main())
