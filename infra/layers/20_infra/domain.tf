# Optional custom domain (the seed's roadmap): an ACM certificate validated through
# Route53, the API Gateway domain name, its mapping to the $default stage, and the
# alias records. Off unless domain.enabled.

locals {
  domain_on = var.domain.enabled
}

resource "aws_acm_certificate" "api" {
  count             = local.domain_on ? 1 : 0
  domain_name       = var.domain.name
  validation_method = "DNS"
  tags              = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "api_validation" {
  for_each = local.domain_on ? {
    for dvo in aws_acm_certificate.api[0].domain_validation_options : dvo.domain_name => dvo
  } : {}
  zone_id         = var.domain.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "api" {
  count                   = local.domain_on ? 1 : 0
  certificate_arn         = aws_acm_certificate.api[0].arn
  validation_record_fqdns = [for r in aws_route53_record.api_validation : r.fqdn]
}

resource "aws_apigatewayv2_domain_name" "api" {
  count       = local.domain_on ? 1 : 0
  domain_name = var.domain.name
  tags        = var.tags

  domain_name_configuration {
    certificate_arn = aws_acm_certificate_validation.api[0].certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }
}

resource "aws_apigatewayv2_api_mapping" "api" {
  count       = local.domain_on ? 1 : 0
  api_id      = aws_apigatewayv2_api.http.id
  domain_name = aws_apigatewayv2_domain_name.api[0].id
  stage       = aws_apigatewayv2_stage.default.id
}

resource "aws_route53_record" "api" {
  for_each = local.domain_on ? toset(["A", "AAAA"]) : toset([])
  zone_id  = var.domain.zone_id
  name     = var.domain.name
  type     = each.key

  alias {
    name                   = aws_apigatewayv2_domain_name.api[0].domain_name_configuration[0].target_domain_name
    zone_id                = aws_apigatewayv2_domain_name.api[0].domain_name_configuration[0].hosted_zone_id
    evaluate_target_health = false
  }
}
