/**
 * Names of widely used third-party libraries and system-library symbols, per ecosystem, lower case.
 * A missing name found here is most likely a dependency to install or link; one not found here is
 * more likely the project's own (a path, a module to put on the search path, a file to build).
 * This is vocabulary, not rules: it only sets the `origin:` trait, whose weight is learned from
 * the registry like every other feature's.
 */
const LIBRARIES = `
requests numpy pandas scipy matplotlib flask django fastapi pydantic sqlalchemy yaml pyyaml toml
click rich typer pytest attr attrs boto3 botocore jinja2 markupsafe werkzeug celery redis psycopg2
pymongo aiohttp httpx urllib3 certifi six dateutil pytz tqdm bs4 lxml pil cv2 sklearn torch
tensorflow keras transformers jwt cryptography paramiko openai anthropic dotenv uvicorn gunicorn
starlette marshmallow networkx sympy seaborn plotly dash selenium scrapy nltk spacy gensim xgboost
lightgbm regex simplejson ujson orjson msgpack grpc google protobuf docker kubernetes ansible
fabric invoke pexpect psutil setuptools pkg_resources wheel pip virtualenv mypy black isort
lodash express react react-dom vue angular chalk commander yargs axios moment dayjs left-pad
debug dotenv uuid ws socket.io mongoose sequelize pg mysql mysql2 sqlite3 better-sqlite3 redis
ioredis jsonwebtoken bcrypt bcryptjs cors body-parser cookie-parser morgan helmet passport
webpack babel @babel/core typescript ts-node eslint prettier jest mocha chai sinon supertest
rxjs zod joi yup ajv immer redux react-redux next nuxt svelte vite rollup esbuild tslib glob
minimist fs-extra rimraf mkdirp semver node-fetch got request bluebird async underscore ramda
jquery bootstrap d3 three chart.js marked highlight.js cheerio puppeteer playwright sharp
nodemailer winston pino bunyan dayjs date-fns luxon inquirer ora kleur picocolors colors
serde serde_json tokio reqwest clap anyhow thiserror rand log env_logger tracing futures hyper
actix actix-web axum rocket diesel sqlx chrono itertools lazy_static once_cell rayon bytes
json json::xs json::pp text::csv text::csv_xs dbi dbd::pg dbd::mysql dbd::sqlite lwp lwp::useragent
moose moo try::tiny data::dumper list::moreutils datetime path::tiny mojolicious dancer plack
libpq-fe libc libm m pthread z ssl crypto curl pcre png jpeg xml2 yaml sqlite3 pq uv ffi gmp ncurses readline
zlib openssl boost gtest fmt spdlog
`;

/** C library functions whose undefined reference means a missing -l flag (libm, libpthread, libdl…). */
const SYSTEM_SYMBOLS = `
sin cos tan asin acos atan atan2 sinh cosh tanh exp exp2 log log2 log10 pow sqrt cbrt hypot ceil
floor fmod round trunc fabs lround erf tgamma sinf cosf sqrtf powf expf logf
pthread_create pthread_join pthread_mutex_lock pthread_mutex_unlock pthread_cond_wait
strlen strcpy strncpy strcmp strncmp strcat strchr strstr strdup memcpy memset memmove memcmp
malloc calloc realloc free printf fprintf sprintf snprintf scanf sscanf puts fputs fopen fclose
fread fwrite fgets atoi atol atof strtol strtoul strtod exit abort qsort bsearch getenv rand srand
isdigit isalpha isspace toupper tolower time sleep usleep
dlopen dlsym dlclose clock_gettime timer_create shm_open sem_open
deflate inflate compress uncompress crc32 SSL_new SSL_connect EVP_DigestInit curl_easy_init
sqlite3_open sqlite3_exec pcre_compile png_create_read_struct
`;

const SET = new Set([...LIBRARIES.split(/\s+/), ...SYSTEM_SYMBOLS.split(/\s+/)].filter(Boolean).map((w) => w.toLowerCase()));

/** True when `name` (a module, package, crate, header or symbol) is a well-known library's. */
export function isWellKnown(name: string): boolean {
  const n = name.toLowerCase().replace(/\.(?:h|hpp|pm)$/, "");
  if (SET.has(n)) return true;
  // the top segment of a dotted/nested/slashed name: numpy.linalg, JSON::XS, curl/curl.h, @babel/core
  const top = n.startsWith("@") ? n.split("/").slice(0, 2).join("/") : n.split(/::|[./]/)[0]!;
  return top !== n && SET.has(top);
}
