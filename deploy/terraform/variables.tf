# ---- naming ---------------------------------------------------------------------------------------

variable "name" {
  type        = string
  description = "Prefix of every resource name (queue, roles, policies, alarms)."
  default     = "twingate-ingest"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.name))
    error_message = "name: 1-40 letters, digits, - and _."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource that takes tags."
  default     = {}
}

# ---- bucket ---------------------------------------------------------------------------------------

variable "bucket_name" {
  type        = string
  description = "Bucket Twingate syncs to (no arn:aws:s3::: prefix). Created unless create_bucket = false."
}

variable "create_bucket" {
  type        = bool
  description = "Create the bucket (with public access blocked, TLS-only policy, default encryption). false: use an existing bucket of that name; its policy and encryption are left alone."
  default     = true
}

variable "key_prefix" {
  type        = string
  description = "Key prefix Twingate writes under (\"\" when files land at the bucket's root, as by default). Scopes the notification and the worker's read access; give the worker the same KEY_PREFIX."
  default     = ""
}

variable "opensearch_domain_arn" {
  type        = string
  description = "ARN of the Amazon OpenSearch Service domain the worker writes to with SigV4 (arn:aws:es:<region>:<account>:domain/<name>): grants the worker role es:ESHttpGet/Head/Post/Put on it. \"\" for another cluster (basic auth)."
  default     = ""
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of an existing KMS key for SSE-KMS on the bucket. null with create_kms_key = false: SSE-S3."
  default     = null
}

variable "create_kms_key" {
  type        = bool
  description = "Create a KMS key (rotation on) and use it for SSE-KMS on the bucket. Ignored when kms_key_arn is set."
  default     = false
}

variable "raw_retention_days" {
  type        = number
  description = "Delete Twingate's files this many days after they are written (0: keep them; they are what backfill and replay read)."
  default     = 0
}

# ---- queue ----------------------------------------------------------------------------------------

variable "visibility_timeout_seconds" {
  type        = number
  description = "Queue visibility timeout. The worker extends it while it works; with Lambda it must be at least the function timeout (AWS recommends 6 times)."
  default     = 300
}

variable "max_receive_count" {
  type        = number
  description = "Receives before a message is moved to the dead-letter queue."
  default     = 5

  validation {
    condition     = var.max_receive_count >= 3 && var.max_receive_count <= 50
    error_message = "max_receive_count: between 3 (survives a short OpenSearch outage) and 50."
  }
}

variable "message_retention_seconds" {
  type        = number
  description = "How long the queue keeps a notification nobody processed (the dead-letter queue keeps them 14 days)."
  default     = 345600
}

# ---- worker ---------------------------------------------------------------------------------------

variable "backfill_checkpoint_prefix" {
  type        = string
  description = "Key prefix in the bucket where backfill may keep its checkpoint (BACKFILL_CHECKPOINT=s3://<bucket>/<prefix>); null: the checkpoint lives elsewhere."
  default     = null
}

variable "create_worker_role" {
  type        = bool
  description = "Create an IAM role for the worker with the least-privilege policy attached. false: attach worker_policy_arn to your own role (EKS IRSA, an existing task role)."
  default     = true
}

variable "worker_role_services" {
  type        = list(string)
  description = "Services allowed to assume the worker role: ecs-tasks.amazonaws.com for ECS, lambda.amazonaws.com for Lambda."
  default     = ["ecs-tasks.amazonaws.com"]
}

# ---- Twingate's side (optional) ------------------------------------------------------------------

variable "create_twingate_oidc" {
  type        = bool
  description = "Create the OIDC identity provider and the role Twingate assumes to write to the bucket (the vendor's recommended option). Give the role ARN output to Twingate's Admin Console."
  default     = false
}

variable "twingate_network" {
  type        = string
  description = "Twingate network slug (acme for acme.twingate.com): OIDC provider URL https://<slug>.twingate.com/oidc, audience <slug>. Required when create_twingate_oidc."
  default     = null
}

variable "twingate_oidc_provider_arn" {
  type        = string
  description = "ARN of an existing OIDC provider for https://<slug>.twingate.com/oidc (an account has one per URL). null: the module creates it."
  default     = null
}

# ---- alarms ---------------------------------------------------------------------------------------

variable "create_alarms" {
  type        = bool
  description = "CloudWatch alarms on the dead-letter queue depth and the age of the oldest message."
  default     = true
}

variable "alarm_actions" {
  type        = list(string)
  description = "ARNs notified when an alarm fires or clears (e.g. an SNS topic)."
  default     = []
}

variable "max_message_age_seconds" {
  type        = number
  description = "Alarm when the oldest message in the queue is older than this: the worker is down or too slow."
  default     = 900
}
