from mediarouter.cli.main import main

raise SystemExit(main())
