# Every key of terraform.tfvars.json — the file haar also reads (src/cloud/config.c) —
# declared with its type, the same optional keys and defaults, and the same checks haar
# applies, so a bad setting fails `terraform plan` as it fails `haar up`. Keep both
# readers in step.

variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.project))
    error_message = "project: must be 1..32 characters of a-z, 0-9 and \"-\", not beginning or ending with \"-\"."
  }
  validation {
    condition     = length(var.project) + length(var.environment) <= 39
    error_message = "project: project and environment together are at most 39 characters: the artifacts bucket <project>-<environment>-artifacts-<account id> must fit S3's 63."
  }
  validation {
    condition     = !can(regex("^(xn--|sthree-|amzn-s3-demo-)", var.project))
    error_message = "project: must not begin with xn--, sthree- or amzn-s3-demo- (prefixes S3 reserves for bucket names)."
  }
}

variable "environment" {
  description = "Environment name; resources are named <project>-<environment>-<suffix>."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$", var.environment))
    error_message = "environment: must be 1..16 characters of a-z, 0-9 and \"-\", not beginning or ending with \"-\"."
  }
}

variable "aws_region" {
  description = "AWS region of the environment."
  type        = string
  validation {
    condition     = can(regex("^[a-z]{2}-([a-z]+-){1,2}[1-9][0-9]?$", var.aws_region))
    error_message = "aws_region: does not look like an AWS region (e.g. eu-west-1)."
  }
}

variable "tags" {
  description = "Tags added to every resource, besides Project, Environment and ManagedBy (which are set from the configuration and win)."
  type        = map(string)
  default     = {}
  validation {
    condition     = length(var.tags) <= 47
    error_message = "tags: at most 47 entries (AWS allows 50 tags per resource; Project, Environment and ManagedBy are set by haar)."
  }
  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(k, "aws:")])
    error_message = "tags: keys are 1..128 characters not beginning with \"aws:\", values at most 256."
  }
  validation {
    condition     = alltrue([for k, v in var.tags : !contains(["project", "environment", "managedby"], lower(k))])
    error_message = "tags: the tags Project, Environment and ManagedBy (in any case) are set by haar from the configuration; remove them."
  }
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of every log group."
  type        = number
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days: must be one of CloudWatch Logs' allowed values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "kms_enabled" {
  description = "Encrypt logs, queues, table, artifacts, images, the alarm topic and the functions' environment with a customer managed KMS key."
  type        = bool
  default     = false
}

variable "tracing_enabled" {
  description = "X-Ray active tracing of the functions (HTTP APIs have no X-Ray tracing of their own)."
  type        = bool
  default     = false
}

variable "api" {
  description = "HTTP API: stage throttling, CORS origins, access logs."
  type = object({
    throttling_rate_limit  = number
    throttling_burst_limit = number
    cors_allow_origins     = optional(list(string), [])
    access_log_enabled     = optional(bool, false)
    jwt_authorizer = optional(object({
      enabled  = optional(bool, false)
      issuer   = optional(string, "")
      audience = optional(list(string), [])
    }), {})
  })
  validation {
    condition     = alltrue([for n in [var.api.throttling_rate_limit, var.api.throttling_burst_limit] : n >= 0 && n <= 1000000 && floor(n) == n])
    error_message = "api.throttling_rate_limit: api.throttling_rate_limit and api.throttling_burst_limit must be integers 0..1000000."
  }
  validation {
    condition     = var.api.throttling_rate_limit == 0 || var.api.throttling_burst_limit >= 1
    error_message = "api.throttling_burst_limit: 0 lets no request through while api.throttling_rate_limit is positive; use at least 1."
  }
  validation {
    condition     = length(var.api.cors_allow_origins) <= 100 && alltrue([for o in var.api.cors_allow_origins : o == "*" || can(regex("^https?://[A-Za-z0-9.:*-]+$", o))])
    error_message = "api.cors_allow_origins: at most 100, each \"*\" or an origin like https://example.com."
  }
  validation {
    condition     = var.api.jwt_authorizer.issuer == "" || (length(var.api.jwt_authorizer.issuer) <= 2048 && can(regex("^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[!-~]*)?$", var.api.jwt_authorizer.issuer)))
    error_message = "api.jwt_authorizer.issuer: must be an https URL like https://auth.example.com/."
  }
  validation {
    condition     = length(var.api.jwt_authorizer.audience) <= 10 && alltrue([for a in var.api.jwt_authorizer.audience : can(regex("^[!-~]+$", a))])
    error_message = "api.jwt_authorizer.audience: at most 10, each printable ASCII characters without spaces."
  }
  validation {
    condition     = !var.api.jwt_authorizer.enabled || var.api.jwt_authorizer.issuer != ""
    error_message = "api.jwt_authorizer.issuer: must not be empty when api.jwt_authorizer.enabled is true."
  }
  validation {
    condition     = !var.api.jwt_authorizer.enabled || length(var.api.jwt_authorizer.audience) > 0
    error_message = "api.jwt_authorizer.audience: must not be empty when api.jwt_authorizer.enabled is true."
  }
}

variable "queue" {
  description = "The task queue and its dead-letter queue."
  type = object({
    visibility_timeout_seconds    = number
    message_retention_seconds     = number
    receive_wait_time_seconds     = number
    max_receive_count             = number
    dlq_message_retention_seconds = number
  })
  validation {
    condition     = var.queue.visibility_timeout_seconds >= 0 && var.queue.visibility_timeout_seconds <= 43200
    error_message = "queue.visibility_timeout_seconds: must be 0..43200."
  }
  validation {
    condition     = var.queue.visibility_timeout_seconds >= 6 * var.functions.worker.timeout_seconds
    error_message = "queue.visibility_timeout_seconds: must be at least 6 x functions.worker.timeout_seconds, as AWS advises for a queue that feeds a Lambda function."
  }
  validation {
    condition     = var.queue.message_retention_seconds >= 60 && var.queue.message_retention_seconds <= 1209600
    error_message = "queue.message_retention_seconds: must be 60..1209600."
  }
  validation {
    condition     = var.queue.receive_wait_time_seconds >= 0 && var.queue.receive_wait_time_seconds <= 20
    error_message = "queue.receive_wait_time_seconds: must be 0..20."
  }
  validation {
    condition     = var.queue.max_receive_count >= 1 && var.queue.max_receive_count <= 1000
    error_message = "queue.max_receive_count: must be 1..1000."
  }
  validation {
    condition     = var.queue.dlq_message_retention_seconds >= 60 && var.queue.dlq_message_retention_seconds <= 1209600
    error_message = "queue.dlq_message_retention_seconds: must be 60..1209600."
  }
  validation {
    condition     = var.queue.dlq_message_retention_seconds >= var.queue.message_retention_seconds
    error_message = "queue.dlq_message_retention_seconds: must be at least queue.message_retention_seconds (a moved message keeps its enqueue time)."
  }
}

variable "table" {
  description = "The tasks table."
  type = object({
    point_in_time_recovery = optional(bool, false)
    ttl_attribute          = optional(string, "expires_at")
    deletion_protection    = optional(bool, false)
  })
  default = {}
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,255}$", var.table.ttl_attribute))
    error_message = "table.ttl_attribute: must be 1..255 letters, digits, \"_\", \".\" or \"-\"."
  }
  validation {
    condition     = !var.deploy.protected || var.table.deletion_protection
    error_message = "table.deletion_protection: must be true when deploy.protected is true."
  }
}

variable "schedule" {
  description = "The producer's schedule and the tasks it enqueues each time."
  type = object({
    expression = string
    enabled    = optional(bool, true)
    tasks      = optional(any, [])
  })
  validation {
    condition     = can(regex("^(rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]{1,8}) (minutes|hours|days))\\)|cron\\( *[A-Za-z0-9,*/?#-]+ +[A-Za-z0-9,*/?#-]+ +[A-Za-z0-9,*/?#-]+ +[A-Za-z0-9,*/?#-]+ +[A-Za-z0-9,*/?#-]+ +[A-Za-z0-9,*/?#-]+ *\\))$", var.schedule.expression))
    error_message = "schedule.expression: must be rate(value unit) — the unit singular only when the value is 1 — or cron(6 fields)."
  }
  validation {
    condition     = !startswith(var.schedule.expression, "cron(") || try((regex("^cron\\( *(\\S+) +(\\S+) +(\\S+) +(\\S+) +(\\S+) +(\\S+) *\\)$", var.schedule.expression)[2] == "?") != (regex("^cron\\( *(\\S+) +(\\S+) +(\\S+) +(\\S+) +(\\S+) +(\\S+) *\\)$", var.schedule.expression)[4] == "?"), false)
    error_message = "schedule.expression: exactly one of day-of-month and day-of-week must be \"?\"."
  }
  validation {
    condition     = can(length(var.schedule.tasks)) && try(length(var.schedule.tasks) <= 100, false) && alltrue([for t in var.schedule.tasks : can(regex("^[a-z0-9_-]+$", t.kind)) && can(keys(t.payload))])
    error_message = "schedule.tasks: must be at most 100 {\"kind\": name of a-z, 0-9, \"_\", \"-\"; \"payload\": object}."
  }
}

variable "functions" {
  description = "Per-function memory, timeout and concurrency; the worker's event source mapping."
  type = object({
    api = object({
      memory_mb            = number
      timeout_seconds      = number
      reserved_concurrency = optional(number, -1)
    })
    worker = object({
      memory_mb                   = number
      timeout_seconds             = number
      reserved_concurrency        = optional(number, -1)
      batch_size                  = optional(number, 10)
      max_batching_window_seconds = optional(number, 0)
      max_concurrency             = optional(number, 1000)
    })
    producer = object({
      memory_mb             = number
      timeout_seconds       = number
      reserved_concurrency  = optional(number, -1)
      max_retry_attempts    = optional(number, 2)
      max_event_age_seconds = optional(number, 3600)
    })
  })
  validation {
    condition     = alltrue([for f in [var.functions.api, var.functions.worker, var.functions.producer] : f.memory_mb >= 128 && f.memory_mb <= 10240 && floor(f.memory_mb) == f.memory_mb])
    error_message = "functions.*.memory_mb: must be an integer 128..10240."
  }
  validation {
    condition     = alltrue([for f in [var.functions.api, var.functions.worker, var.functions.producer] : f.timeout_seconds >= 1 && f.timeout_seconds <= 900 && floor(f.timeout_seconds) == f.timeout_seconds])
    error_message = "functions.*.timeout_seconds: must be an integer 1..900."
  }
  validation {
    condition     = var.functions.api.timeout_seconds <= 30
    error_message = "functions.api.timeout_seconds: must be at most 30 (the HTTP API's integration timeout)."
  }
  validation {
    condition     = alltrue([for f in [var.functions.api, var.functions.worker, var.functions.producer] : f.reserved_concurrency >= -1 && f.reserved_concurrency <= 100000 && floor(f.reserved_concurrency) == f.reserved_concurrency])
    error_message = "functions.*.reserved_concurrency: must be -1 (unreserved) or 0..100000."
  }
  validation {
    condition     = sum([for f in [var.functions.api, var.functions.worker, var.functions.producer] : max(f.reserved_concurrency, 0)]) <= var.emulator.account_concurrency_limit
    error_message = "functions.*.reserved_concurrency: the functions reserve more in total than emulator.account_concurrency_limit."
  }
  validation {
    condition     = sum([for f in [var.functions.api, var.functions.worker, var.functions.producer] : max(f.reserved_concurrency, 0)]) <= max(var.deploy.account_concurrency_limit - 100, 0)
    error_message = "functions.*.reserved_concurrency: the functions reserve more in total than AWS allows: it keeps 100 of deploy.account_concurrency_limit unreserved."
  }
  validation {
    condition     = contains([0, 1, 2], var.functions.producer.max_retry_attempts)
    error_message = "functions.producer.max_retry_attempts: must be 0..2."
  }
  validation {
    condition     = var.functions.producer.max_event_age_seconds >= 60 && var.functions.producer.max_event_age_seconds <= 21600 && floor(var.functions.producer.max_event_age_seconds) == var.functions.producer.max_event_age_seconds
    error_message = "functions.producer.max_event_age_seconds: must be an integer 60..21600."
  }
  validation {
    condition     = var.functions.worker.batch_size >= 1 && var.functions.worker.batch_size <= 10000
    error_message = "functions.worker.batch_size: must be 1..10000."
  }
  validation {
    condition     = var.functions.worker.max_batching_window_seconds >= 0 && var.functions.worker.max_batching_window_seconds <= 300
    error_message = "functions.worker.max_batching_window_seconds: must be 0..300."
  }
  validation {
    condition     = var.functions.worker.batch_size <= 10 || var.functions.worker.max_batching_window_seconds >= 1
    error_message = "functions.worker.max_batching_window_seconds: must be at least 1 when functions.worker.batch_size is more than 10."
  }
  validation {
    condition     = var.functions.worker.max_concurrency >= 2 && var.functions.worker.max_concurrency <= 1000
    error_message = "functions.worker.max_concurrency: must be 2..1000."
  }
}

variable "deploy" {
  description = "How the functions are built and deployed, who may deploy (infra/bootstrap reads these too) and how new versions take traffic."
  type = object({
    architecture              = optional(string, "arm64")
    package_type              = optional(string, "Zip")
    github_repository         = string
    github_branch             = optional(string, "main")
    ecr_keep_images           = optional(number, 20)
    account_concurrency_limit = optional(number, 1000)
    protected                 = optional(bool, false)
    traffic_shifting          = optional(string, "AllAtOnce")
  })
  validation {
    condition     = contains(["arm64", "x86_64"], var.deploy.architecture)
    error_message = "deploy.architecture: must be arm64 or x86_64."
  }
  validation {
    condition     = contains(["Zip", "Image"], var.deploy.package_type)
    error_message = "deploy.package_type: must be Zip or Image."
  }
  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$", var.deploy.github_repository))
    error_message = "deploy.github_repository: must be \"owner/name\" (owner: letters, digits, \"-\"; name: letters, digits, \".\", \"_\", \"-\")."
  }
  validation {
    condition     = length(var.deploy.github_branch) >= 1 && length(var.deploy.github_branch) <= 255 && !can(regex("[\\x00-\\x20\\x7f~^:?*\\[\\\\]|^[-/]|\\.\\.|/$", var.deploy.github_branch))
    error_message = "deploy.github_branch: is not a valid git branch name."
  }
  validation {
    condition     = var.deploy.ecr_keep_images >= 1 && var.deploy.ecr_keep_images <= 1000
    error_message = "deploy.ecr_keep_images: must be 1..1000."
  }
  validation {
    condition     = var.deploy.account_concurrency_limit >= 1 && var.deploy.account_concurrency_limit <= 100000 && floor(var.deploy.account_concurrency_limit) == var.deploy.account_concurrency_limit
    error_message = "deploy.account_concurrency_limit: must be an integer 1..100000 (the account's Lambda concurrency quota)."
  }
  validation {
    condition     = contains(["AllAtOnce", "Canary10Percent5Minutes", "Canary10Percent10Minutes", "Canary10Percent15Minutes", "Canary10Percent30Minutes", "Linear10PercentEvery1Minute", "Linear10PercentEvery2Minutes", "Linear10PercentEvery3Minutes", "Linear10PercentEvery10Minutes"], var.deploy.traffic_shifting)
    error_message = "deploy.traffic_shifting: must be AllAtOnce or one of CodeDeploy's Lambda configurations (Canary10Percent5Minutes, Canary10Percent10Minutes, Canary10Percent15Minutes, Canary10Percent30Minutes, Linear10PercentEvery1Minute, Linear10PercentEvery2Minutes, Linear10PercentEvery3Minutes, Linear10PercentEvery10Minutes)."
  }
}

variable "network" {
  description = "Optional VPC placement of the functions (private subnets)."
  type = object({
    vpc_enabled        = optional(bool, false)
    subnet_ids         = optional(list(string), [])
    security_group_ids = optional(list(string), [])
  })
  default = {}
  validation {
    condition     = !var.network.vpc_enabled || length(var.network.subnet_ids) > 0
    error_message = "network.subnet_ids: must not be empty when network.vpc_enabled is true."
  }
  validation {
    condition     = !var.network.vpc_enabled || length(var.network.security_group_ids) > 0
    error_message = "network.security_group_ids: must not be empty when network.vpc_enabled is true."
  }
  validation {
    condition     = length(var.network.subnet_ids) <= 16 && length(var.network.security_group_ids) <= 5 && alltrue([for s in var.network.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))]) && alltrue([for g in var.network.security_group_ids : can(regex("^sg-[0-9a-f]+$", g))])
    error_message = "network.subnet_ids: at most 16 subnet-<hex> ids, and network.security_group_ids at most 5 sg-<hex> ids."
  }
}

variable "domain" {
  description = "Optional custom domain of the API (ACM certificate, API mapping, Route53 alias)."
  type = object({
    enabled = optional(bool, false)
    name    = optional(string, "")
    zone_id = optional(string, "")
  })
  default = {}
  validation {
    condition     = var.domain.name == "" || (length(var.domain.name) <= 253 && can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.domain.name)))
    error_message = "domain.name: is not a lowercase DNS name like api.example.com."
  }
  validation {
    condition     = can(regex("^[A-Z0-9]{0,32}$", var.domain.zone_id))
    error_message = "domain.zone_id: is not a Route 53 hosted zone id (A-Z, 0-9)."
  }
  validation {
    condition     = !var.domain.enabled || var.domain.name != ""
    error_message = "domain.name: must not be empty when domain.enabled is true."
  }
  validation {
    condition     = !var.domain.enabled || var.domain.zone_id != ""
    error_message = "domain.zone_id: must not be empty when domain.enabled is true."
  }
}

variable "alarms" {
  description = "CloudWatch alarms, their SNS topic (e-mail subscriptions) and the dashboard."
  type = object({
    enabled                          = optional(bool, true)
    email_endpoints                  = optional(list(string), [])
    api_p99_latency_ms               = optional(number, 2000)
    queue_oldest_message_age_seconds = optional(number, 900)
  })
  default = {}
  validation {
    condition     = length(var.alarms.email_endpoints) <= 10 && alltrue([for e in var.alarms.email_endpoints : can(regex("^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$", e))])
    error_message = "alarms.email_endpoints: at most 10 e-mail addresses like ops@example.com."
  }
  validation {
    condition     = var.alarms.api_p99_latency_ms >= 100 && var.alarms.api_p99_latency_ms <= 30000 && floor(var.alarms.api_p99_latency_ms) == var.alarms.api_p99_latency_ms
    error_message = "alarms.api_p99_latency_ms: must be an integer 100..30000."
  }
  validation {
    condition     = var.alarms.queue_oldest_message_age_seconds >= 60 && var.alarms.queue_oldest_message_age_seconds <= 1209600 && floor(var.alarms.queue_oldest_message_age_seconds) == var.alarms.queue_oldest_message_age_seconds
    error_message = "alarms.queue_oldest_message_age_seconds: must be an integer 60..1209600."
  }
  validation {
    condition     = !var.alarms.enabled || var.alarms.queue_oldest_message_age_seconds < var.queue.message_retention_seconds
    error_message = "alarms.queue_oldest_message_age_seconds: must be less than queue.message_retention_seconds, or the message is deleted before the alarm fires."
  }
}

variable "emulator" {
  description = "Settings of haar's local emulator; Terraform declares them so the file stays one schema (account_concurrency_limit also bounds the reserved concurrency)."
  type = object({
    account_concurrency_limit = optional(number, 1000)
    idle_environment_seconds  = optional(number, 300)
    code_storage_mb           = optional(number, 76800)
    strict_runtimes           = optional(bool, false)
  })
  default = {}
  validation {
    condition     = var.emulator.account_concurrency_limit >= 1 && var.emulator.account_concurrency_limit <= 100000
    error_message = "emulator.account_concurrency_limit: must be 1..100000."
  }
  validation {
    condition     = var.emulator.idle_environment_seconds >= 1 && var.emulator.idle_environment_seconds <= 86400
    error_message = "emulator.idle_environment_seconds: must be 1..86400."
  }
  validation {
    condition     = var.emulator.code_storage_mb >= 1 && var.emulator.code_storage_mb <= 76800
    error_message = "emulator.code_storage_mb: must be 1..76800."
  }
}

# ---------------------------------------------------------------------------------
# Deploy-time inputs: not environment settings, so not in terraform.tfvars.json.

variable "aws_account_id" {
  description = "Account to deploy to; empty = the caller's account (an STS call). Also pins the provider to it."
  type        = string
  default     = ""
  validation {
    condition     = var.aws_account_id == "" || can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id: must be 12 digits or empty."
  }
}

variable "artifacts_dir" {
  description = "Folder with the packaged zips (make package writes dist/)."
  type        = string
  default     = "../../../dist"
}

variable "image_digest" {
  description = "Digest (sha256:<64 hex>) of the image packaging/build-image built once per commit (deploy.package_type Image): the functions run exactly this image, in every environment."
  type        = string
  default     = ""
  validation {
    condition     = var.deploy.package_type != "Image" || can(regex("^sha256:[0-9a-f]{64}$", var.image_digest))
    error_message = "image_digest: must be the image's digest (sha256:<64 hex>) when deploy.package_type is Image."
  }
}

variable "image_archive" {
  description = "The OCI archive of that image (Image package type): when set, apply pushes it to the environment's repository before the functions need it; empty = the image is already there."
  type        = string
  default     = ""
}

variable "image_tag" {
  description = "Tag the image is pushed under (the commit SHA; ECR tags are immutable); the functions use the digest."
  type        = string
  default     = ""
  validation {
    condition     = var.image_tag == "" || can(regex("^[0-9a-f]{7,40}$", var.image_tag))
    error_message = "image_tag: must be a commit SHA (7..40 hex digits) or empty."
  }
}
