module github.com/expertiza/expertiza

go 1.26.8

require (
	fyne.io/fyne/v2 v2.7.1 // desktop UI toolkit (DESIGN.md §2)
	github.com/google/go-cmp v0.7.0 // readable diffs in table tests
	github.com/gorilla/websocket v1.5.3 // WebSocket server and client (protocol §3)
	github.com/jackc/pgx/v5 v5.12.0 // PostgreSQL driver and pool (store layer only)
	github.com/minio/minio-go/v7 v7.4.1 // S3-compatible object storage for blobs (DESIGN.md §4)
	github.com/pquerna/otp v1.5.0 // TOTP codes and otpauth/QR enrolment
	github.com/pressly/goose/v3 v3.29.0 // embedded SQL migrations, one transaction each, recorded
	github.com/prometheus/client_golang v1.25.0 // /metrics
	golang.org/x/crypto v0.58.0 // argon2id password hashing
	golang.org/x/term v0.47.0 // password prompt without echo in `user add`
	golang.org/x/time v0.16.0 // token-bucket rate limiting of sign-in per address
)

require (
	github.com/99designs/keyring v1.2.2 // session token in the OS keyring (desktop client)
	github.com/Shopify/toxiproxy/v2 v2.5.0 // fault tests: a real TCP proxy that cuts answers after the server committed
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6 // AUTH PLAIN of the test SMTP server (go-smtp's own dependency)
	github.com/emersion/go-smtp v0.25.1 // a real SMTP server (STARTTLS, AUTH) started by the mail tests
	github.com/klippa-app/go-pdfium v1.20.0 // PDF rendering, text and search in the client: PDFium as WebAssembly, no cgo (DESIGN.md §5)
	github.com/pdfcpu/pdfcpu v0.15.0 // PDF parsing and validation in the guarded worker; PDF generation (pdfdoc)
	github.com/prometheus/client_model v0.6.3 // reads counter values for the admin server-status screen
	github.com/tetratelabs/wazero v1.12.0 // runs go-pdfium's wasm; its compilation cache on disk saves ~4 s per start
	github.com/wneessen/go-mail v0.8.1 // SMTP client: STARTTLS policy, timeouts, RFC 2047/MIME building, accepted-or-not per message
	go.etcd.io/bbolt v1.5.0 // client cache and outbox files: one file, transactions, fsync, pure Go
	golang.org/x/image v0.44.0 // smooth scaling of page previews in the PDF viewer (draw.ApproxBiLinear)
	golang.org/x/sync v0.24.0 // semaphore bounding concurrent PDF workers
	golang.org/x/text v0.43.0 // declared XML encodings (windows-1251) in the validators
	gonum.org/v1/plot v0.17.0 // report charts drawn to PNG without cgo, with Cyrillic-capable fonts (reports screen and PDF)
)

require (
	codeberg.org/go-fonts/liberation v0.5.0 // indirect
	codeberg.org/go-latex/latex v0.2.0 // indirect
	codeberg.org/go-pdf/fpdf v0.11.1 // indirect
	fyne.io/systray v1.11.1-0.20250603113521-ca66a66d8b58 // indirect
	git.sr.ht/~sbinet/gg v0.7.0 // indirect
	github.com/99designs/go-keychain v0.0.0-20191008050251-8e49817e8af4 // indirect
	github.com/BurntSushi/toml v1.6.0 // indirect
	github.com/ajstarks/svgo v0.0.0-20211024235047-1546f124cd8b // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/boombuler/barcode v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/clipperhouse/uax29/v2 v2.7.0 // indirect
	github.com/danieljoos/wincred v1.1.2 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/dvsekhvalnov/jose2go v1.5.0 // indirect
	github.com/fredbi/uri v1.1.1 // indirect
	github.com/fsnotify/fsnotify v1.9.0 // indirect
	github.com/fyne-io/gl-js v0.2.0 // indirect
	github.com/fyne-io/glfw-js v0.3.0 // indirect
	github.com/fyne-io/image v0.1.1 // indirect
	github.com/fyne-io/oksvg v0.2.0 // indirect
	github.com/go-gl/gl v0.0.0-20231021071112-07e5d0ea2e71 // indirect
	github.com/go-gl/glfw/v3.3/glfw v0.0.0-20240506104042-037f3cc74f2a // indirect
	github.com/go-text/render v0.2.0 // indirect
	github.com/go-text/typesetting v0.2.1 // indirect
	github.com/godbus/dbus v0.0.0-20190726142602-4481cbc300e2 // indirect
	github.com/godbus/dbus/v5 v5.1.0 // indirect
	github.com/golang/freetype v0.0.0-20170609003504-e2365dfdc4a0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/mux v1.8.0 // indirect
	github.com/gsterjov/go-libsecret v0.0.0-20161001094733-a6f4afe4910c // indirect
	github.com/hack-pad/go-indexeddb v0.3.2 // indirect
	github.com/hack-pad/safejs v0.1.0 // indirect
	github.com/hhrutter/tiff v1.0.6 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/jeandeaual/go-locale v0.0.0-20250612000132-0ef82f21eade // indirect
	github.com/jolestar/go-commons-pool/v2 v2.1.2 // indirect
	github.com/jsummers/gobmp v0.0.0-20230614200233-a9de23ed2e25 // indirect
	github.com/klauspost/compress v1.20.1 // indirect
	github.com/klauspost/cpuid/v2 v2.4.0 // indirect
	github.com/klauspost/crc32 v1.3.0 // indirect
	github.com/mattn/go-colorable v0.1.15 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/mattn/go-runewidth v0.0.27 // indirect
	github.com/mfridman/interpolate v0.0.2 // indirect
	github.com/minio/crc64nvme v1.1.1 // indirect
	github.com/minio/md5-simd v1.1.2 // indirect
	github.com/mtibben/percent v0.2.1 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/nfnt/resize v0.0.0-20180221191011-83c6a9932646 // indirect
	github.com/nicksnyder/go-i18n/v2 v2.5.1 // indirect
	github.com/philhofer/fwd v1.2.0 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/rs/xid v1.6.0 // indirect
	github.com/rs/zerolog v1.28.0 // indirect
	github.com/rymdport/portal v0.4.2 // indirect
	github.com/sethvargo/go-retry v0.5.0 // indirect
	github.com/srwiley/oksvg v0.0.0-20221011165216-be6e8873101c // indirect
	github.com/srwiley/rasterx v0.0.0-20220730225603-2ab79fcdd4ef // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/tinylib/msgp v1.6.4 // indirect
	github.com/yuin/goldmark v1.7.8 // indirect
	github.com/zeebo/xxh3 v1.1.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.61.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	gopkg.in/ini.v1 v1.67.3 // indirect
	gopkg.in/tomb.v1 v1.0.0-20141024135613-dd632973f1e7 // indirect
)
