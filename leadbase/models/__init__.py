"""All ORM models; importing this package registers every table on ``Base.metadata``."""

from leadbase.models.activities import Activity
from leadbase.models.assignment import (
    AssignmentJob,
    AssignmentJobLead,
    AssignmentRule,
    AssignmentState,
)
from leadbase.models.audit import AuditEntry, Event, IdempotencyKey
from leadbase.models.calls import Call, CallAgent, CallEventRow, DialTask, DncNumber
from leadbase.models.console import ConsolePreference
from leadbase.models.deals import Customer, Opportunity, OpportunityStageChange
from leadbase.models.duplicates import DuplicateGroup, DuplicateScan, LeadMerge
from leadbase.models.exports import BulkJob, ExportJob
from leadbase.models.fields import (
    CodeList,
    CodeListItem,
    FieldDefinition,
    FieldSection,
    LeadFieldKey,
    ValidationRule,
)
from leadbase.models.imports import ImportJob, ImportRowError
from leadbase.models.leads import Lead, LeadList
from leadbase.models.listings import LeadListing, Listing
from leadbase.models.pipelines import (
    Pipeline,
    Stage,
    StageChange,
    StageCount,
    StageDay,
    StageMonth,
)
from leadbase.models.scoring import (
    LeadPrediction,
    Predictor,
    ScoreQueue,
    ScoringJob,
    ScoringModel,
)
from leadbase.models.segments import AdvanceRule, Segment, SegmentMember
from leadbase.models.tasks import Task
from leadbase.models.tenancy import ApiKey, RefreshToken, Tenant, User

__all__ = [
    "Activity",
    "AdvanceRule",
    "ApiKey",
    "AssignmentJob",
    "AssignmentJobLead",
    "AssignmentRule",
    "AssignmentState",
    "AuditEntry",
    "BulkJob",
    "Call",
    "CallAgent",
    "CallEventRow",
    "CodeList",
    "CodeListItem",
    "ConsolePreference",
    "Customer",
    "DialTask",
    "DncNumber",
    "DuplicateGroup",
    "DuplicateScan",
    "Event",
    "ExportJob",
    "FieldDefinition",
    "FieldSection",
    "IdempotencyKey",
    "ImportJob",
    "ImportRowError",
    "Lead",
    "LeadFieldKey",
    "LeadList",
    "LeadListing",
    "LeadMerge",
    "LeadPrediction",
    "Listing",
    "Opportunity",
    "OpportunityStageChange",
    "Pipeline",
    "Predictor",
    "RefreshToken",
    "ScoreQueue",
    "ScoringJob",
    "ScoringModel",
    "Segment",
    "SegmentMember",
    "Stage",
    "StageChange",
    "StageCount",
    "StageDay",
    "StageMonth",
    "Task",
    "Tenant",
    "User",
    "ValidationRule",
]
